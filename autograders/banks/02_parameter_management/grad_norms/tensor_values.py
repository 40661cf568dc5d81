# Returns 0-d tensors instead of Python floats
def grad_norms(net):
    norms = {}
    for name, param in net.named_parameters():
        norms[name] = None if param.grad is None else param.grad.norm()
    return norms
