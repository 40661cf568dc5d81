# Builds the values aside and rebinds .data: the Parameter object (and the optimizer's reference) is kept
def init_sparse_uniform(module):
    if not isinstance(module, nn.Linear):
        return
    values = torch.rand(module.weight.shape, dtype=module.weight.dtype) * 20 - 10
    module.weight.data = torch.where(values.abs() >= 5, values, torch.zeros_like(values))
