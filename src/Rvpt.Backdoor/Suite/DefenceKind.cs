namespace Rvpt.Backdoor;

/// <summary>The defences <see cref="DefenceSuite"/> runs.</summary>
public enum DefenceKind
{
    /// <summary>The backdoored model as it is (zero-shot).</summary>
    None,

    /// <summary>Few-shot deep visual prompt tuning with cross-entropy only (RVPT with alpha = 0).</summary>
    PlainVpt,

    /// <summary>A linear classifier on the frozen image features, trained on the few-shot set.</summary>
    LinearProbe,

    /// <summary>CleanCLIP: fine-tuning the whole model on clean image-caption pairs (multimodal + in-modality losses).</summary>
    CleanClip,

    /// <summary>Repulsive visual prompt tuning.</summary>
    Rvpt,

    /// <summary>The whole image encoder fine-tuned on the few shots with cross-entropy (the paper's Table 8 baseline).</summary>
    FullFineTuning,

    /// <summary>The whole image encoder fine-tuned on the few shots with cross-entropy plus RVPT's repelling term (Table 8).</summary>
    RepulsiveFineTuning,
}
