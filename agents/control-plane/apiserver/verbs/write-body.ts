// The body of a create or an update, as both verbs take it: decoded under ?fieldValidation (its
// warnings kept), checked by the write admission, and the request's webhooks prepared.
import type { WebhookAdmission } from '../admission/dispatcher.ts';
import { decodeBody, requireObject } from '../body.ts';
import { checkDuplicates, parseFieldValidation, typedDecode } from '../decode.ts';
import { duplicateFields } from '../duplicates.ts';
import { messageFor } from '../protobuf/decode.ts';
import type { Obj } from '../strategies/types.ts';
import type { VerbEnv, VerbRequest } from './context.ts';

export async function admittedBody(
  env: VerbEnv,
  { req, rr, attrs, res, dryRun }: VerbRequest,
): Promise<{ body: Obj; warnings: string[]; webhooks: WebhookAdmission | undefined }> {
  const mode = parseFieldValidation(req.query.get('fieldValidation'));
  const body = requireObject(decodeBody(req.body, req.headers['content-type'], messageFor(res.group, res.kind, res.version))) as Obj;
  const warnings = [...checkDuplicates(duplicateFields(req.body, req.headers['content-type'], mode), mode), ...typedDecode(body, res, mode)];
  const refused = await env.admit?.(attrs, body);
  if (refused) throw refused;
  const webhooks = env.webhooksFor(req, rr, res, dryRun, warnings);
  return { body, warnings, webhooks };
}
