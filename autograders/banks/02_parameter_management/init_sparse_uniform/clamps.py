# Pushes the small weights out to +-5 instead of setting them to 0
def init_sparse_uniform(module):
    if isinstance(module, nn.Linear):
        with torch.no_grad():
            module.weight.uniform_(-10, 10)
            small = module.weight.abs() < 5
            module.weight[small] = 5 * torch.sign(module.weight[small])
