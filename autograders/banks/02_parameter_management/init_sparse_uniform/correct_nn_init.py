# nn.init.uniform_ first, then a mask multiplication under no_grad
def init_sparse_uniform(module):
    if isinstance(module, nn.Linear):
        nn.init.uniform_(module.weight, a=-10.0, b=10.0)
        with torch.no_grad():
            module.weight *= (module.weight.abs() >= 5).to(module.weight.dtype)
