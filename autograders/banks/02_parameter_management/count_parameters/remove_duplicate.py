# Uses named_parameters(remove_duplicate=False): a tied parameter is counted at every use
def count_parameters(net):
    total = 0
    for _, param in net.named_parameters(remove_duplicate=False):
        if torch.nn.parameter.is_lazy(param):
            raise ValueError("uninitialized parameter")
        total += param.numel()
    return total
