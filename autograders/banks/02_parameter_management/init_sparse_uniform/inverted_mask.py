# Zeroes the large weights (|w| >= 5) instead of the small ones
def init_sparse_uniform(module):
    if isinstance(module, nn.Linear):
        with torch.no_grad():
            module.weight.uniform_(-10, 10)
            module.weight[module.weight.abs() >= 5] = 0
