# Draws from U(-10, 10) but forgets to set the weights with |w| < 5 to 0
def init_sparse_uniform(module):
    if isinstance(module, nn.Linear):
        nn.init.uniform_(module.weight, -10, 10)
