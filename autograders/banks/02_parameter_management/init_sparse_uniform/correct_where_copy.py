# Draws into a fresh tensor with its own calls and copies it into the weight
def init_sparse_uniform(module):
    if isinstance(module, nn.Linear):
        with torch.no_grad():
            magnitude = torch.empty_like(module.weight).uniform_(0, 10)
            sign = torch.randint_like(module.weight, 0, 2) * 2 - 1
            module.weight.copy_(torch.where(magnitude < 5, torch.zeros_like(magnitude), sign * magnitude))
