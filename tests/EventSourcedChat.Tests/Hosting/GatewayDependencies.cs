using System.Reflection;
using System.Reflection.Emit;
using EventSourcedChat.Gateway.Hosting;

namespace EventSourcedChat.Tests.Hosting;

/// <summary>
/// The Gateway host holds no business rules: it uses the Commands and Projections modules only where it registers them
/// (<see cref="HostingExtensions"/>); everything else it shares with them is in Contracts or EventStore. Read from the
/// compiled Gateway: every type's signatures and the members its method bodies (lambdas and async state machines
/// included) name.
/// </summary>
public sealed class GatewayDependencies
{
    private static readonly Assembly Gateway = typeof(HostingExtensions).Assembly;
    private static readonly Assembly[] Modules = [typeof(Commands.CommandsModule).Assembly, typeof(Projections.ProjectionsModule).Assembly];

    [Fact]
    public void Only_the_registration_uses_the_commands_and_projections_modules()
    {
        var uses = Gateway.GetTypes()
            .Where(t => Outermost(t) != typeof(HostingExtensions))
            .SelectMany(t => UsesOf(t, Modules).Select(member => (Type: Outermost(t), Member: member)))
            .Select(u => $"{u.Type.FullName} uses {u.Member}")
            .Distinct().Order().ToList();

        Assert.True(uses.Count == 0, "Gateway types other than the registration use these modules:\n" + string.Join("\n", uses));
    }

    [Fact]
    public void The_check_sees_uses_in_signatures_lambdas_and_async_methods()
    {
        // The registration itself uses both modules: in calls, in typeof and in a method group; presence's visibility
        // check uses ReadModels in an async method. Were the reading blind to any of them, the check above would pass
        // for nothing.
        var registration = Gateway.GetTypes().Where(t => Outermost(t) == typeof(HostingExtensions)).SelectMany(t => UsesOf(t, Modules)).ToHashSet();
        Assert.Contains("EventSourcedChat.Commands.CommandsModule.AddCommands", registration);
        Assert.Contains("EventSourcedChat.Projections.ProjectionsModule.AddProjectionsHealthCheck", registration);
        Assert.Contains("EventSourcedChat.Commands.CommandsModule", registration);
        Assert.Contains("EventSourcedChat.Commands.Accounts.KeyRingProtection.InsecureDefault", registration);
        Assembly[] readModels = [typeof(ReadModels.Workspaces.WorkspaceMembership).Assembly];
        var visibility = Gateway.GetTypes().Where(t => Outermost(t) == typeof(Gateway.Presence.PresenceVisibility))
            .SelectMany(t => UsesOf(t, readModels)).ToHashSet();
        Assert.Contains("EventSourcedChat.ReadModels.Workspaces.WorkspaceMembership.VisibleUsersAsync", visibility);
    }

    private static Type Outermost(Type type) => type.DeclaringType is { } outer ? Outermost(outer) : type;

    /// <summary>The module types and members that <paramref name="type"/> names, in its signatures or its code.</summary>
    private static IEnumerable<string> UsesOf(Type type, Assembly[] modules)
    {
        bool Involves(Type t) => InvolvesAny(t, modules);
        const BindingFlags declared = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        IEnumerable<Type> signatures = [
            .. type.BaseType is { } b ? [b] : Array.Empty<Type>(), .. type.GetInterfaces(),
            .. type.GetFields(declared).Select(f => f.FieldType), .. type.GetProperties(declared).Select(p => p.PropertyType)];
        var methods = type.GetMethods(declared).Cast<MethodBase>().Concat(type.GetConstructors(declared)).ToList();
        signatures = signatures.Concat(methods.SelectMany(SignatureOf));
        foreach (var used in signatures.Where(Involves))
        {
            yield return used.FullName ?? used.Name;
        }
        foreach (var member in methods.SelectMany(MembersNamedIn))
        {
            var declaring = member as Type ?? member.DeclaringType;
            IEnumerable<Type> generic = member switch
            {
                MethodBase m => SignatureOf(m),
                FieldInfo f => [f.FieldType],
                _ => [],
            };
            if ((declaring is not null && Involves(declaring)) || generic.Any(Involves))
            {
                yield return member is Type t ? t.FullName ?? t.Name : $"{member.DeclaringType?.FullName}.{member.Name}";
            }
        }
    }

    private static IEnumerable<Type> SignatureOf(MethodBase method) =>
    [
        .. method.GetParameters().Select(p => p.ParameterType),
        .. method is MethodInfo info ? [info.ReturnType] : Array.Empty<Type>(),
        .. method.IsGenericMethod ? method.GetGenericArguments() : [],
        .. method.GetMethodBody()?.LocalVariables.Select(l => l.LocalType) ?? [],
    ];

    private static bool InvolvesAny(Type type, Assembly[] modules) =>
        type.HasElementType
            ? InvolvesAny(type.GetElementType()!, modules)
            : !type.IsGenericParameter && (modules.Contains(type.Assembly) || (type.IsGenericType && type.GetGenericArguments().Any(a => InvolvesAny(a, modules))));

    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (OpCode)f.GetValue(null)!).ToDictionary(o => o.Value);

    /// <summary>The types, methods and fields that the IL of <paramref name="method"/> names (calls, news, casts, tokens).</summary>
    private static IEnumerable<MemberInfo> MembersNamedIn(MethodBase method)
    {
        var il = method.GetMethodBody()?.GetILAsByteArray() ?? [];
        var typeArgs = method.DeclaringType is { IsGenericType: true } d ? d.GetGenericArguments() : null;
        var methodArgs = method.IsGenericMethod ? method.GetGenericArguments() : null;
        for (var at = 0; at < il.Length;)
        {
            var code = il[at] == 0xFE ? OpCodesByValue[(short)(0xFE00 | il[at + 1])] : OpCodesByValue[il[at]];
            at += code.Size;
            switch (code.OperandType)
            {
                case OperandType.InlineField or OperandType.InlineMethod or OperandType.InlineType or OperandType.InlineTok:
                    yield return method.Module.ResolveMember(BitConverter.ToInt32(il, at), typeArgs, methodArgs)!;
                    at += 4;
                    break;
                case OperandType.InlineSwitch:
                    at += 4 + 4 * BitConverter.ToInt32(il, at);
                    break;
                case OperandType.InlineNone:
                    break;
                case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar:
                    at += 1;
                    break;
                case OperandType.InlineVar:
                    at += 2;
                    break;
                case OperandType.InlineI8 or OperandType.InlineR:
                    at += 8;
                    break;
                default:
                    at += 4;
                    break;
            }
        }
    }
}
