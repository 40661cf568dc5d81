# Uses torch.inference_mode() instead of torch.no_grad(): the new parameters never receive gradients
def materialize(net, example_input):
    with torch.inference_mode():
        net(example_input)
    return net
