# Multiplies the shape out with math.prod: a lazy parameter raises RuntimeError, not ValueError
def count_parameters(net):
    return sum(math.prod(param.shape) for param in net.parameters())
