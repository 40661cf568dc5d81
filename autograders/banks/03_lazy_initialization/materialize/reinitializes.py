# Re-initializes every layer after the dry run: parameters that were already initialized change
def materialize(net, example_input):
    with torch.no_grad():
        net(example_input)
    for module in net.modules():
        if hasattr(module, "reset_parameters"):
            module.reset_parameters()
    return net
