# Adds up m.parameters() for every module of net.modules(): nested parameters are counted at every level
def count_parameters(net):
    total = 0
    for module in net.modules():
        for param in module.parameters():
            total += param.numel()
    return total
