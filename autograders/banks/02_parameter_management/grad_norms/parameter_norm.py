# Measures the parameter itself instead of its gradient
def grad_norms(net):
    norms = {}
    for name, param in net.named_parameters():
        norms[name] = None if param.grad is None else param.detach().norm().item()
    return norms
