# Correct: dry run in evaluation mode, then every module's own mode is restored
def materialize(net, example_input):
    modes = {module: module.training for module in net.modules()}
    net.eval()
    try:
        with torch.set_grad_enabled(False):
            net(example_input)
    finally:
        for module, mode in modes.items():
            module.training = mode
    return net
