namespace Rvpt.Clip;

/// <summary>Key layout of a CLIP state dict.</summary>
public enum ClipCheckpointLayout
{
    /// <summary>OpenAI's <c>clip.model.CLIP</c> keys (also OpenCLIP's ViT models): <c>visual.*</c>, <c>transformer.*</c>, ...</summary>
    OpenAI,

    /// <summary>Hugging Face transformers' <c>CLIPModel</c> keys: <c>vision_model.*</c>, <c>text_model.*</c>, ...</summary>
    HuggingFace,
}
