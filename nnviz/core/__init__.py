"""The numpy core of nnviz: data, network, optimizers, training. Never imports Qt."""
