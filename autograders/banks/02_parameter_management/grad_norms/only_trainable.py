# Skips the frozen parameters (requires_grad=False) instead of reporting None for them
def grad_norms(net):
    norms = {}
    for name, param in net.named_parameters():
        if param.requires_grad:
            norms[name] = None if param.grad is None else param.grad.norm().item()
    return norms
