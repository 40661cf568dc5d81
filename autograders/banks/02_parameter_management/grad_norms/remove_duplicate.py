# Iterates named_parameters(remove_duplicate=False): a shared layer appears under every name
def grad_norms(net):
    norms = {}
    for name, param in net.named_parameters(remove_duplicate=False):
        norms[name] = None if param.grad is None else param.grad.norm().item()
    return norms
