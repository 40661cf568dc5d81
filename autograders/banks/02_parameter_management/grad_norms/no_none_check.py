# Reads .grad as if a backward pass had always run: crashes where .grad is None
def grad_norms(net):
    return {name: param.grad.norm().item() for name, param in net.named_parameters()}
