# Iterates self.children() in forward: a block passed twice contributes only once
class ParallelBlock(nn.Module):
    def __init__(self, *blocks, dim=-1):
        super().__init__()
        if not blocks:
            raise ValueError("no block")
        for index, block in enumerate(blocks):
            self.add_module(str(index), block)
        self.dim = dim

    def forward(self, X):
        return torch.cat([block(X) for block in self.children()], dim=self.dim)
