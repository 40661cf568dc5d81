# Sorts the names alphabetically instead of keeping the order of named_parameters()
def grad_norms(net):
    norms = {}
    for name, param in sorted(net.named_parameters(), key=lambda item: item[0]):
        norms[name] = None if param.grad is None else param.grad.norm().item()
    return norms
