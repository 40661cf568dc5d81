# Reports 0.0 instead of None where .grad is None
def grad_norms(net):
    norms = {}
    for name, param in net.named_parameters():
        norms[name] = 0.0 if param.grad is None else param.grad.norm().item()
    return norms
