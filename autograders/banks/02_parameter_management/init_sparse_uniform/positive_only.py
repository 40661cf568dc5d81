# Draws from U(0, 10) (torch.rand * 10) instead of U(-10, 10)
def init_sparse_uniform(module):
    if isinstance(module, nn.Linear):
        with torch.no_grad():
            values = torch.rand_like(module.weight) * 10
            values[values < 5] = 0
            module.weight.copy_(values)
