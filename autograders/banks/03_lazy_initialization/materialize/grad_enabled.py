# Runs the dry run with autograd recording (no torch.no_grad()): a graph is built for an output that is thrown away
def materialize(net, example_input):
    net(example_input)
    return net
