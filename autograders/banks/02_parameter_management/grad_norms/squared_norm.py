# Returns the squared L2 norm (sum of squares) instead of the norm
def grad_norms(net):
    norms = {}
    for name, param in net.named_parameters():
        norms[name] = None if param.grad is None else (param.grad ** 2).sum().item()
    return norms
