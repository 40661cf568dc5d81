# Keeps the blocks in a plain Python list: they are not registered sub-modules
class ParallelBlock(nn.Module):
    def __init__(self, *blocks, dim=-1):
        super().__init__()
        if not blocks:
            raise ValueError("no block")
        self.blocks = list(blocks)
        self.dim = dim

    def forward(self, X):
        return torch.cat([block(X) for block in self.blocks], dim=self.dim)
