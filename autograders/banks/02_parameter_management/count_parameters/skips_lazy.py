# Silently skips uninitialized (lazy) parameters instead of raising ValueError
def count_parameters(net):
    return sum(param.numel() for param in net.parameters() if not torch.nn.parameter.is_lazy(param))
