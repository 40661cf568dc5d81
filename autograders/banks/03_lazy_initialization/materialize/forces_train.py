# Puts the network back into training mode afterwards, even when it was in evaluation mode
def materialize(net, example_input):
    net.eval()
    with torch.no_grad():
        net(example_input)
    net.train()
    return net
