# One sum over parameters(): numel() of an uninitialized parameter already raises ValueError
def count_parameters(net):
    return sum(p.numel() for p in net.parameters())
