# Ignores the dim argument and always concatenates on dim=1 (only the last dimension for 2-d inputs)
class ParallelBlock(nn.Module):
    def __init__(self, *blocks, dim=-1):
        super().__init__()
        if not blocks:
            raise ValueError("no block")
        self.blocks = nn.ModuleList(blocks)

    def forward(self, X):
        return torch.cat([block(X) for block in self.blocks], dim=1)
