// Service-account issuer discovery (upstream's ServiceAccountIssuerDiscovery): the OpenID
// provider configuration at /.well-known/openid-configuration and the signing key set at
// /openid/v1/jwks, so that other parties can verify our tokens without talking to us otherwise.
// The JWKS URI is the API server's external address, as upstream defaults it.
import { publicJwk, type SigningKey } from './sa-key.ts';

export const OIDC_CONFIG_PATH = '/.well-known/openid-configuration';
export const JWKS_PATH = '/openid/v1/jwks';

export function openIDConfiguration(issuer: string, serverAddress: string) {
  return {
    issuer,
    jwks_uri: `https://${serverAddress}${JWKS_PATH}`,
    response_types_supported: ['id_token'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
  };
}

export const jwks = (key: SigningKey) => ({ keys: [publicJwk(key)] });
