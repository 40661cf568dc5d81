# Square root of the sum of squares, accumulated in float64, into an OrderedDict
from collections import OrderedDict


def grad_norms(net):
    result = OrderedDict()
    for name, param in net.named_parameters():
        grad = param.grad
        if grad is None:
            result[name] = None
        else:
            result[name] = math.sqrt(grad.double().pow(2).sum().item())
    return result
