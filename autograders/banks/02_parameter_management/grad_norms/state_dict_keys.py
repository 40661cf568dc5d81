# Walks state_dict(keep_vars=True): buffers and the second name of a shared layer sneak in
def grad_norms(net):
    norms = {}
    for name, tensor in net.state_dict(keep_vars=True).items():
        norms[name] = None if tensor.grad is None else tensor.grad.norm().item()
    return norms
