namespace Rvpt.Backdoor;

/// <summary>
/// Where a trigger enters the image pipeline, for <see cref="PoisonedCaptionDataset"/> and
/// <see cref="BackdoorEvaluator"/>. Clean images always go through CLIP's preprocessing (short-side resize, centre crop).
/// </summary>
public enum TriggerPlacement
{
    /// <summary>
    /// As the attacks' published code runs (CleanCLIP and BadCLIP <c>backdoor/utils.py</c>, <c>apply_trigger</c>): the
    /// image is resized to S x S without cropping (S the model's input size, 224 for ViT-B/32; the aspect ratio is not
    /// kept), the trigger is applied, the image goes through an 8-bit round trip as <c>ToPILImage</c> does
    /// (<c>mul(255)</c>, cast to uint8, divide by 255), then CLIP's preprocessing runs (a no-op at S x S). The default.
    /// </summary>
    ResizeThenTrigger,

    /// <summary>
    /// Rvpt's earlier placement and the RVPT paper's wording: CLIP's resize and centre crop first, then the trigger on
    /// the S x S crop, no 8-bit round trip. For square images already at S x S it differs from
    /// <see cref="ResizeThenTrigger"/> only by that round trip.
    /// </summary>
    AfterCentreCrop,
}
