# Replaces the weight with a new nn.Parameter: an optimizer built earlier keeps the old one
def init_sparse_uniform(module):
    if isinstance(module, nn.Linear):
        weight = torch.empty_like(module.weight).uniform_(-10, 10)
        weight = weight * (weight.abs() >= 5)
        module.weight = nn.Parameter(weight)
