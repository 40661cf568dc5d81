# Initializes every module that has a weight: convolutions, norms and embeddings change too
def init_sparse_uniform(module):
    weight = getattr(module, "weight", None)
    if isinstance(weight, torch.Tensor):
        with torch.no_grad():
            weight.uniform_(-10, 10)
            weight[weight.abs() < 5] = 0
