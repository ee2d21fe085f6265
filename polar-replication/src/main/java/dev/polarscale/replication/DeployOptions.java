package dev.polarscale.replication;

/**
 * How {@link ClusterScaler#deployPrimary(DeployOptions)} deploys the primary.
 *
 * <pre>{@code
 * scaler.deployPrimary(DeployOptions.defaults());                              // never formats
 * scaler.deployPrimary(DeployOptions.defaults().withFormatEmptyDevice(true));  // a new, empty PFS device
 * }</pre>
 *
 * @param formatEmptyDevice format the PFS device first (a step "format storage" before everything
 *                          else on it), through {@code PfsClient.mkfs} with
 *                          {@code MkfsMode.REFUSE_IF_FORMATTED}: only a device proven empty is
 *                          formatted; one holding PFS or anything else, or one a pfsd runs for, is
 *                          refused before any change. Only for {@code SharedStorage.pfs}: with any
 *                          other storage it is an {@link IllegalArgumentException}. Off by default:
 *                          a deploy onto an unformatted device is refused with
 *                          {@code DEVICE_NOT_FORMATTED}.
 */
public record DeployOptions(boolean formatEmptyDevice) {

    /** Formats nothing. */
    public static DeployOptions defaults() {
        return new DeployOptions(false);
    }

    /** These options, formatting an empty PFS device first or not. */
    public DeployOptions withFormatEmptyDevice(boolean format) {
        return new DeployOptions(format);
    }
}
