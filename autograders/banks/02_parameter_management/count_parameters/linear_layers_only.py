# Counts only nn.Linear layers' weights and biases: convolutions, norms and custom parameters are missed
def count_parameters(net):
    total = 0
    for module in net.modules():
        if isinstance(module, nn.Linear):
            total += module.weight.numel()
            if module.bias is not None:
                total += module.bias.numel()
    return total
