# Returns the L1 norm (sum of absolute values) instead of the L2 norm
def grad_norms(net):
    norms = {}
    for name, param in net.named_parameters():
        norms[name] = None if param.grad is None else param.grad.abs().sum().item()
    return norms
