# Leaves out the parameters whose .grad is None instead of reporting None
def grad_norms(net):
    return {name: param.grad.norm().item() for name, param in net.named_parameters()
            if param.grad is not None}
