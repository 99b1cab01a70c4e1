// The built-in IngressClass: the control plane creates it (unless --disable-ingress) and the
// ingress controller on every node (agents/ingress) serves the Ingresses of that class. Declared
// here, in the one package both sides may import.
export const CONTROLLER_NAME = 'hawser.io/ingress';
export const CLASS_NAME = 'hawser';
