# Counts only the parameters that require grad: frozen parameters are left out
def count_parameters(net):
    total = 0
    for param in net.parameters():
        if torch.nn.parameter.is_lazy(param):
            raise ValueError("uninitialized parameter")
        if param.requires_grad:
            total += param.numel()
    return total
