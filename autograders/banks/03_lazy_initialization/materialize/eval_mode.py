# Switches the network to evaluation mode for the dry run and leaves it there
def materialize(net, example_input):
    net.eval()
    with torch.no_grad():
        net(example_input)
    return net
