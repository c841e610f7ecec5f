namespace EventSourcedChat.Contracts.Api;

/// <summary>
/// A request refused for a reason the caller can act on: the host answers it as <c>application/problem+json</c> with
/// this HTTP status and stable <see cref="ErrorCodes">code</see>, and the message as its detail. The write side's
/// rejections are of this kind (<c>CommandRejected</c>).
/// </summary>
public abstract class ProblemException(int status, string code, string detail) : Exception(detail)
{
    public int Status { get; } = status;
    public string Code { get; } = code;
}
