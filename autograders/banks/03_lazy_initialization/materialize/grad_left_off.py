# Turns gradient recording off globally and never turns it back on
def materialize(net, example_input):
    torch.set_grad_enabled(False)
    net(example_input)
    return net
