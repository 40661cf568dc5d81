# Returns a tensor instead of a Python int
def count_parameters(net):
    total = torch.tensor(0)
    for param in net.parameters():
        total = total + param.numel()
    return total
