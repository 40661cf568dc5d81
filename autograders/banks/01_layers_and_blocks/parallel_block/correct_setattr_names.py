# Registers each block as an attribute branch_<i> and keeps the names in a tuple, in order
class ParallelBlock(nn.Module):
    def __init__(self, *blocks, dim=-1):
        super().__init__()
        names = []
        for i, block in enumerate(blocks):
            name = f"branch_{i}"
            setattr(self, name, block)
            names.append(name)
        if not names:
            raise ValueError("give ParallelBlock at least one block")
        self.names = tuple(names)
        self.cat_dim = dim

    def forward(self, X):
        return torch.cat(tuple(getattr(self, name)(X) for name in self.names), dim=self.cat_dim)
