"""GraphQL documents used by the API and end-to-end tests, kept as constants."""

LOGIN = """
mutation Login($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) {
    accessToken refreshToken user { id name role } userErrors { field message code }
  }
}"""

TICKET_FIELDS = """
  id key title status priority version escalationLevel reopenCount resolution createdAt
  sla { firstResponseDueAt resolutionDueAt firstRespondedAt firstResponseBreached
        resolutionBreached paused }
  category { name } team { name } requester { name } assignee { id name }
"""

CATEGORIES = "query { categories { id name } }"
ME = "query { me { id name role email teams { id name } } }"


def _ticket_mutation(field: str, input_type: str) -> str:
    return (
        f"mutation Run($input: {input_type}!) {{ {field}(input: $input) {{ "
        f"ticket {{ {TICKET_FIELDS} }} userErrors {{ field message code }} }} }}"
    )


CREATE_TICKET = _ticket_mutation("createTicket", "CreateTicketInput")
ASSIGN = _ticket_mutation("assignTicket", "AssignTicketInput")
TRANSITION = _ticket_mutation("transitionTicket", "TransitionTicketInput")

UPDATE = """
mutation Update($input: UpdateTicketInput!) {
  updateTicket(input: $input) { ticket { id title } userErrors { field message code } }
}"""

CHANGE_PRIORITY = """
mutation Prio($input: ChangePriorityInput!) {
  changePriority(input: $input) { ticket { id priority } userErrors { field message code } }
}"""

ESCALATE = """
mutation Esc($input: EscalateTicketInput!) {
  escalateTicket(input: $input) { ticket { id escalationLevel } userErrors { field message code } }
}"""

COMMENT = """
mutation Comment($input: AddCommentInput!) {
  addComment(input: $input) {
    comment { id body internal author { name } }
    ticket { sla { firstRespondedAt } }
    userErrors { field message code }
  }
}"""

TICKET_EVENTS = """
query Events($id: ID!) {
  ticket(id: $id) {
    key status
    events(first: 50) {
      totalCount
      edges { cursor node { seq kind from to internal createdAt actor { name } data } }
    }
    comments(first: 20) { totalCount nodes { body internal } }
  }
}"""

TICKET_BY_KEY = "query ByKey($key: String!) { ticketByKey(key: $key) { id key title } }"

DASHBOARD = """
query Dashboard($first: Int!) {
  tickets(first: $first) {
    pageInfo { hasNextPage endCursor }
    edges { cursor node {
      id key title status priority escalationLevel createdAt
      sla { firstResponseDueAt resolutionDueAt firstRespondedAt firstResponseBreached
            resolutionBreached paused }
      requester { id name } assignee { id name } category { id name } team { id name }
      events(last: 3) { nodes { kind from to createdAt actor { name } } }
    } }
  }
}"""

# Subscriptions (issue 4)
SUBSCRIBE_EVENTS = """
subscription Live($filter: TicketEventFilter, $after: String) {
  ticketEvents(filter: $filter, after: $after) {
    id cursor seq kind internal data
    actor { name }
    ticket { id key status assignee { name } }
  }
}"""

SUBSCRIBE_TICKET = """
subscription Watch($id: ID!) {
  ticketUpdated(id: $id) { id key status version assignee { name } }
}"""

SUBSCRIBE_NOTIFICATIONS = """
subscription Inbox {
  notificationReceived { id channel event subject body status createdAt ticket { key } }
}"""

UPDATE_USER = """
mutation UpdateUser($input: UpdateUserInput!) {
  updateUser(input: $input) { user { id active } userErrors { field message code } }
}"""

CREATE_USER = """
mutation CreateUser($input: CreateUserInput!) {
  createUser(input: $input) { user { id } userErrors { field message code } }
}"""
