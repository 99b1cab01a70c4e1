// GET of one object (upstream's registry/rest GetResource).
import { renderOne } from '../output.ts';
import { ok, type VerbHandler } from './context.ts';

export const handleGet: VerbHandler = async (_env, { rs, ns, rr, out }) => ok(renderOne(out, await rs.get(ns, rr.name!)));
