# Runs the network twice: once to initialize and once more "to check the output shape"
def materialize(net, example_input):
    with torch.no_grad():
        net(example_input)
        out = net(example_input)
    assert out is not None
    return net
