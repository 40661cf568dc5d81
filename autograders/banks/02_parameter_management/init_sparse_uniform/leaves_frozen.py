# Turns requires_grad off to write the weight and never turns it back on
def init_sparse_uniform(module):
    if isinstance(module, nn.Linear):
        module.weight.requires_grad_(False)
        module.weight.uniform_(-10, 10)
        module.weight[module.weight.abs() < 5] = 0
